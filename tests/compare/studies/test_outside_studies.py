"""Studies of data outside Theorem 5.1 (issue 11): point masses and L^1-only densities run through
the same pipeline, with an exact reference before contact and a pseudo-inverse reference after."""

from __future__ import annotations

import numpy as np
import pytest

from compare.runs.cases import load_case
from compare.studies.reference import reference_kind
from compare.studies.validate import run_study


@pytest.mark.parametrize(
    ("case", "kind"),
    [
        ("point_mass_separated", "exact"),
        ("singular_separated", "exact"),
        ("point_mass_inside", "lagrangian"),
        ("point_masses_coincide", "lagrangian"),
        ("singular_overlap", "lagrangian"),
        ("overlap", "fv2"),
    ],
)
def test_auto_reference_is_exact_then_pseudo_inverse_for_point_masses_and_unbounded_densities(case: str, kind: str) -> None:
    c = load_case(case)
    assert reference_kind(c, c.T) == kind


def test_fv2_reference_on_point_masses_is_refused() -> None:
    from solvers.errors import CaseError

    with pytest.raises(CaseError, match="use reference lagrangian"):
        run_study("point_mass_inside", Ns=[10, 20], nt=2, cells=64, reference="fv2")


def test_point_mass_beside_a_density_first_order_and_the_reconstruction_breaks_at_the_gap() -> None:
    """Before contact, against the exact solution (the point mass spreads into 1/(2t)): the empirical
    measures converge at first order in W1, W2 and W_inf; the reconstruction's cell across the gap
    between the uniform part and the point mass keeps W_inf(rho~, rho) at half the gap (0.25, order
    0) and slows W2(rho~, rho) towards order 1/2."""
    study = run_study("point_mass_separated", Ns=[50, 100, 200], nt=4, cells=400)
    order = study["order"].to_series()
    print("\npoint_mass_separated orders:", order.round(3).to_dict())
    for name in ("w1_emp", "w2_emp", "winf_emp", "w1_rec"):
        assert 0.95 < order[name] < 1.05, name
    np.testing.assert_allclose(study["sup_err"].sel(metric="winf_rec").values, 0.25, rtol=1e-12)
    assert 0.45 < order["w2_rec"] < 0.7
    assert np.isnan(study["l1_rec"].sel(species="rho").isel(t=0).values).all()  # no density at t = 0: the point mass
    assert bool(study["lemma51_holds"].all()) and bool(study["prop52_holds"].all())


def test_coinciding_point_masses_against_the_pseudo_inverse_reference_and_its_own_order() -> None:
    """Both species have a point mass at 0: the reference is the pseudo-inverse scheme with the
    minimal-norm velocity; its observed order in W1 from n/4, n/2, n is about 2, the particles'
    order about 1."""
    study = run_study("point_masses_coincide", Ns=[50, 100], nt=4, cells=400)
    assert study.attrs["reference"] == "lagrangian (400 intervals)"
    reference_order = float(study["reference_order"].sel(ref_metric="w1"))
    order = float(study["order"].sel(metric="w1_emp"))
    print(f"\npoint_masses_coincide: reference order {reference_order:.3f}, particle W1 order {order:.3f}")
    assert 1.7 < reference_order < 2.3
    assert 0.9 < order < 1.1
    assert float(study["reference_error"].sel(ref_metric="w1")) < 0.01 * float(study["sup_err"].sel(metric="w1_emp").min())


def test_summary_of_a_point_mass_study_says_what_is_undefined(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """No 'none' or 'round-off' for quantities that a point mass leaves undefined; the pseudo-inverse
    reference's own order is stated."""
    import warnings

    from compare.studies.report import summary_markdown

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        text = summary_markdown(run_study("point_mass_inside", Ns=[20, 40, 80], nt=4, cells=200), {}, "cmd")
    assert "its own observed order in its resolution" in text
    assert "the reconstruction is infinite at t = 0" in text and "rise above its value at t = 0 none" not in text
