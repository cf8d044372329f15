"""What the conversation keeps between messages: state, follow-up context, flood limits, chat scope."""
