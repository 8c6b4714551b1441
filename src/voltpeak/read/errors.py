"""The one error a reader raises: its message is a single line a user can act on."""


class ReadError(ValueError):
    """A file could not be read as a voltammogram."""
