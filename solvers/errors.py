"""Exception classes raised for bad input.

Every message is one line that names the problem and how to fix it; the command line prints it
as ``error: <message>`` and exits with status 2.
"""


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
