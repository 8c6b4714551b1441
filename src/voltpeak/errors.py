"""Errors whose message is a single line a user can act on; the CLI prints it and exits with code 2."""


class VoltpeakError(ValueError):
    """Bad input of any kind."""


class ReadError(VoltpeakError):
    """A file could not be read as a voltammogram."""


class InputError(VoltpeakError):
    """A JSON Lines file, an option or a record is not what the command needs."""
