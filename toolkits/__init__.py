"""What an audit asks: the seed audit tools as versioned, checked, declarative definitions."""

from toolkits.model import (
    AnswerKind,
    Question,
    Scale,
    Section,
    SectionJudgement,
    Selector,
    Toolkit,
)
from toolkits.registry import (
    DefinitionError,
    InvalidDefinitions,
    Registry,
    UnknownToolkit,
    load_definition,
    load_registry,
)

__all__ = [
    "AnswerKind",
    "DefinitionError",
    "InvalidDefinitions",
    "Question",
    "Registry",
    "Scale",
    "Section",
    "SectionJudgement",
    "Selector",
    "Toolkit",
    "UnknownToolkit",
    "load_definition",
    "load_registry",
]
