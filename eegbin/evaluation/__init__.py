"""Named reference pipelines, the MOABB evaluation runner, reports and plots."""

from .pipelines import get_pipeline, get_spec, list_pipelines, register_pipeline
from .run import EVALUATIONS, EvaluationResult, pareto_front, run

__all__ = [
    "register_pipeline",
    "get_pipeline",
    "get_spec",
    "list_pipelines",
    "run",
    "EvaluationResult",
    "pareto_front",
    "EVALUATIONS",
]
