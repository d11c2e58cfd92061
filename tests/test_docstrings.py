"""The docstring templates (eegbin/docstrings.py): fill, indent, refuse unknown names."""

import inspect

import pytest

import eegbin
from eegbin.docstrings import docdict, fill_doc


def test_fill_doc_fills_and_indents_like_the_placeholder_line():
    @fill_doc
    def fit(X, y=None):
        """Fit.

        Parameters
        ----------
        X : ndarray
        %(y_ignored)s

        %(returns_self)s
        """

    expected = "\n".join(["Fit.", "", "Parameters", "----------", "X : ndarray", docdict["y_ignored"], "",
                          docdict["returns_self"]])
    assert inspect.cleandoc(fit.__doc__) == expected
    assert "%(" not in fit.__doc__


def test_fill_doc_on_a_class_fills_its_docstring_and_its_own_methods():
    @fill_doc
    class Base:
        """Base; %(y_ignored)s"""

        def fit(self, X, y=None):
            """%(returns_self)s"""

    class Child(Base):
        def predict(self, X):
            """%(returns_y_pred)s"""  # not decorated: left as written

    assert Base.__doc__.startswith("Base; y : None\n")
    assert Base.fit.__doc__ == docdict["returns_self"]
    assert Child.predict.__doc__ == "%(returns_y_pred)s"


def test_fill_doc_leaves_other_percent_signs_and_missing_docstrings():
    def f():
        """95% of 100 %s, %(x) and 50%."""

    def g():
        pass

    assert fill_doc(f).__doc__ == "95% of 100 %s, %(x) and 50%."
    assert fill_doc(g).__doc__ is None  # python -OO strips docstrings: nothing to fill


def test_fill_doc_refuses_an_unknown_fragment_and_names_it():
    def fit(X):
        """Fit.

        %(no_such_fragment)s
        """

    with pytest.raises(KeyError, match=r"fit names the fragment %\(no_such_fragment\)s.*defined: .*y_ignored"):
        fill_doc(fit)


@pytest.mark.parametrize("est", [eegbin.HeavisideBinarizer, eegbin.PQClassifier, eegbin.BinarizedLinearSVC,
                                 eegbin.FilterBankRiemann, eegbin.LSTMClassifier, eegbin.EEGNetClassifier])
def test_estimator_docstrings_are_filled_numpydoc(est):
    doc = inspect.getdoc(est.fit)
    assert "%(" not in doc
    assert "Parameters\n----------\nX : " in doc and "Returns\n-------\nself : object" in doc
