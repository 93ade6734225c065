"""The errors Beltline expects and explains in one line.

    BeltlineError            anything the user can fix; the CLI prints it and exits 2
    ├── ConfigError          a bad config file, key or value (the message names the key)
    ├── ModelError           a missing, unreadable or unsupported model, or no TFLite runtime
    ├── SourceError          a clip, image, webcam or Pi camera that cannot be opened or read
    │   └── CameraUnavailable    a camera that is not there (yet): `run` waits for it
    ├── DisplayError         no screen to draw on
    └── RecordsError         a records database that cannot be used (the message names the file)

Third-party exceptions are caught where they enter (the seam) and re-raised as one of
these with ``raise ... from``, so the person sees one calm line and the log keeps the cause.
"""

import difflib
from collections.abc import Iterable


class BeltlineError(Exception):
    """Base class: an expected failure with a message meant for a person."""


class ConfigError(BeltlineError):
    """The configuration file or a value in it is wrong."""


class ModelError(BeltlineError):
    """The pose model cannot be found, loaded or run."""


class SourceError(BeltlineError):
    """A frame source cannot be opened or stopped delivering."""


class CameraUnavailable(SourceError):
    """A camera that cannot be opened now but may come (USB enumeration, a loose ribbon):
    `run` shows the camera screen and keeps retrying; the other commands fail at once."""


class DisplayError(BeltlineError):
    """The display cannot be opened."""


class RecordsError(BeltlineError):
    """The records database cannot be used; the message names the file and the cause."""


def closest(given: str, choices: Iterable[str]) -> str | None:
    """The one of `choices` a misspelt `given` most likely meant (the standard library's difflib), or None."""
    close = difflib.get_close_matches(given.lower(), list(choices), n=1, cutoff=0.75)
    return close[0] if close else None


def near_miss(given: str, choices: Iterable[str], prefix: str = "") -> str:
    """"; did you mean 'X'?" for `closest`, else "": for the one-line errors about a name the user typed."""
    close = closest(given, choices)
    return f"; did you mean '{prefix}{close}'?" if close else ""
