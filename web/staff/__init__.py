"""The staff workspace: sign-in, the queue, search, the whole ticket and its actions."""
