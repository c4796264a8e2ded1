"""RFC 5322/5321 in and out: parsing, composing, IMAP, SMTP listener and transports."""
