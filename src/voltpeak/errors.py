"""Errors whose message is a single line a user can act on; the CLI prints it and exits with code 2."""


class VoltpeakError(ValueError):
    """Bad input of any kind."""


class ReadError(VoltpeakError):
    """A file could not be read as a voltammogram."""


class InputError(VoltpeakError):
    """A JSON Lines file, an option or a record is not what the command needs."""


class MissingProgram(InputError):
    """A program or package a step needs is not installed (Tesseract's model, R's ggplot2, a plotting library,
    Chromium): the message says what to install."""
