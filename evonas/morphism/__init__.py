"""Network morphisms: parent genome + weights -> child genome + inherited weights.

Importing this package registers the built-in morphisms (see :func:`list_morphisms`).
"""

from evonas.morphism import approximate, preserving, resolution
from evonas.morphism.base import (
    MORPHISMS,
    Child,
    Morphism,
    MorphismRecord,
    NotApplicable,
    Site,
    default_morphisms,
    get_morphism,
    list_morphisms,
    output_deviation,
    register_morphism,
)

__all__ = [
    "MORPHISMS",
    "Child",
    "Morphism",
    "MorphismRecord",
    "NotApplicable",
    "Site",
    "approximate",
    "default_morphisms",
    "get_morphism",
    "list_morphisms",
    "output_deviation",
    "preserving",
    "register_morphism",
    "resolution",
]
