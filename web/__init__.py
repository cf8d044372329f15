"""The HTTP side of eblagh: the integration API (/v1), the staff dashboard (/staff), health, metrics.

Built by `create_app` from what the composition root (bot/) hands it; nothing here reads the
environment or opens a database by itself.
"""
