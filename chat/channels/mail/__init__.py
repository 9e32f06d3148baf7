"""The email channel's mail handling, apart from Shopbee's models: reading a raw mail into what the bot reads
(``parsing``, ``html_text``, ``quoting``) and what must never be answered (``loops``), and talking to the
merchant's servers (``imap``, ``smtp``, ``servers``). ``chat.channels.email`` and ``email_sync`` use them.
"""
