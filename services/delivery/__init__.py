"""The delivery engine: lanes, ports, the consumer, the sweeper, timed duties, composing messages."""
