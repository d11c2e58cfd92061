"""Bad input for every public callable and estimator of eegbin (issue 17, section 4).

The callables are discovered from the ``__all__`` of ``eegbin`` and of each public
subpackage: a public callable that ``registry.REGISTRY`` does not list fails
:func:`test_every_public_callable_is_registered`, with what to add. Each registered
callable runs the generic battery of ``battery.py`` on its valid call, one
argument spoiled at a time. The exceptions to the battery are in one table at
the end of ``registry.py`` (:data:`registry.EXEMPT`: callables left out, and
:data:`registry.EXCEPTIONS`: cases that do not apply), each with its reason.
Failures found and not fixed yet are listed in ``known.py``, one line per case
with its owner and what fails; they run as strict xfails, so a fix (or a new
failure) shows.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from .battery import Case, Exempt, Failure, cases_of, public_callables, run_case
from .known import KNOWN
from .registry import REGISTRY, SKIP_ALL

PUBLIC = public_callables()


def test_every_public_callable_is_registered():
    missing = sorted(set(PUBLIC) - set(REGISTRY))
    assert not missing, (
        "public callables missing from the bad-input registry: " + ", ".join(missing)
        + ". Register each in tests/bad_input/registry.py: an Entry saying how to build a valid "
        "call (its array arguments as Arg, its scalar hyperparameters with out-of-range values), "
        "or Exempt(reason) if the battery cannot apply to it."
    )


def test_registry_lists_only_public_callables():
    stale = sorted(set(REGISTRY) - set(PUBLIC))
    assert not stale, f"registry entries that are no longer public (remove them): {stale}"


def _all_cases():
    params = []
    for key in sorted(REGISTRY):
        entry = REGISTRY[key]
        if isinstance(entry, Exempt) or key not in PUBLIC:
            continue
        for c in cases_of(key, entry):
            reason = _skip_reason(entry, c)
            if reason is not None:
                continue
            marks = []
            owner = KNOWN.get(c.id)
            if owner:
                marks.append(pytest.mark.xfail(strict=True, raises=Failure, reason=owner))
            params.append(pytest.param(key, c, id=c.id, marks=marks))
    return params


def _skip_reason(entry, c):
    for k in ((c.arg, c.case), c.arg, c.case):
        if k in entry.skip:
            return entry.skip[k]
    for k in ((c.arg, c.case), c.case):
        if k in SKIP_ALL:
            return SKIP_ALL[k]
    return None


CASES = _all_cases()


def test_every_exception_names_a_case_and_a_reason():
    """No stale exception: each exception matches a case of its entry, each has a reason."""
    for key, entry in REGISTRY.items():
        if isinstance(entry, Exempt):
            assert len(entry.reason) > 20, key
            continue
        ids = {(c.arg, c.case) for c in cases_of(key, entry)}
        args = {a for a, _ in ids}
        cases = {c for _, c in ids}
        for k, reason in entry.skip.items():
            assert k in ids or k in args or k in cases, f"{key}: exception {k!r} matches no case"
            assert isinstance(reason, str) and len(reason) > 15, f"{key}: {k!r} needs a reason"



def test_every_known_failure_is_a_case():
    """The table of known failures (known.py) names live cases, each with its owner and what fails."""
    ids = {c.id for key, entry in REGISTRY.items() if not isinstance(entry, Exempt)
           for c in cases_of(key, entry)}
    stale = sorted(set(KNOWN) - ids)
    assert not stale, f"known failures that are no longer cases (remove them from known.py): {stale}"
    for cid, reason in KNOWN.items():
        assert reason.startswith("owner: ") and ":" in reason[7:], f"{cid}: name the owner and the failure"


@pytest.mark.parametrize("key, case", CASES)
def test_bad_input(key, case: Case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            run_case(REGISTRY[key], case)
