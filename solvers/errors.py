"""Exception classes raised for bad input.

Every message is one line that names the problem and how to fix it; the command line prints it
as ``error: <message>`` and exits with status 2.
"""

import difflib
from collections.abc import Sequence


class InputError(ValueError):
    """Invalid user input (case file, option, array passed to the API)."""


class CaseError(InputError):
    """A case file or case name that cannot be used."""


class ParticleInputError(InputError):
    """Particle positions or masses that the engines cannot accept."""


class DensityError(InputError):
    """An initial density that is negative, non-finite, of zero mass or badly specified."""


class SchemeError(InputError):
    """An unknown continuum scheme or an unusable resolution."""


def suggest(word: str, choices: Sequence[str]) -> str:
    """The tail of an unknown-key message: the closest valid choice, if any, and the valid ones."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"{hint}valid: {', '.join(choices)}"
