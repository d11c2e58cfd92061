"""Named reference pipelines, the evaluation runner, one summary, reports and plots."""

from ._dask import SchedulerUnreachable, check_scheduler
from .pipelines import get_pipeline, get_spec, list_pipelines, register_pipeline
from .plotting import plot_accuracy_vs_memory, plot_per_subject
from .report import read_results, render_report, write_report
from .runner import EVALUATIONS, EvaluationResult, check_output_directory, run
from .summary import describe_protocol, format_table, pareto_front, summarize_results

__all__ = [
    "register_pipeline",
    "get_pipeline",
    "get_spec",
    "list_pipelines",
    "run",
    "EvaluationResult",
    "EVALUATIONS",
    "check_output_directory",
    "check_scheduler",
    "SchedulerUnreachable",
    "summarize_results",
    "describe_protocol",
    "format_table",
    "pareto_front",
    "plot_accuracy_vs_memory",
    "plot_per_subject",
    "read_results",
    "render_report",
    "write_report",
]
