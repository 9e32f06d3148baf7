"""The email channel: a shop's mailbox read over IMAP, replies sent over SMTP.

``parsing`` turns a raw message into what the bot reads (``html_text``, ``quoting``) and what must never be
answered (``loops``); ``imap`` and ``smtp`` talk to the merchant's mail servers; ``inbound`` and ``outbound``
are the services that connect them to conversations.
"""
