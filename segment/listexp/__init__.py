"""List-experiment (item count technique) estimators.

In a list experiment respondents are randomised to a control list of ``J`` non-sensitive items
or a treatment list of the same ``J`` items plus one sensitive item, and report only *how many*
items apply to them. This package implements the standard-design estimators, written from the
papers (no code was taken from the GPL R package ``list``). One module per job:

* :mod:`.dim` -- :func:`difference_in_means`, Neyman / linearised SEs, survey weights,
  subgroup contrasts.
* :mod:`.ml` -- :func:`ict_ml`, the maximum likelihood regression of Imai (2011), constrained
  and unconstrained, EM with Newton acceleration (likelihood pieces in :mod:`._ml_model`).
* :mod:`.multi` -- :func:`ict_ml_multi`, maximum likelihood for designs with several sensitive
  items (Blair & Imai 2012, Section 2.2).
* :mod:`.liars` -- :func:`ict_ml_liars`, maximum likelihood with ceiling and floor effects
  (Blair & Imai 2012, Section 3.2).
* :mod:`.subgroups` -- :func:`subgroup_table`, difference in means and the bounded estimate by
  subgroup with small-cell suppression and the flag rule.
* :mod:`.bounded` -- :func:`bounded_prevalence`, the constrained ML of Imai (2011) within each
  group, in [0, 1] by construction, with profile-likelihood intervals.
* :mod:`.three_step` -- :func:`three_step_prevalence`, the ML three-step estimator of
  prevalence within latent classes known up to classification error (Vermunt 2010; Bakk, Tekle
  & Vermunt 2013).
* :mod:`.flags` -- the flag rule: a difference in means outside [0, 1] is never a headline.
* :mod:`.published` -- published tables as data (Table 1 of Jones & Smyth 2022) and their
  consistency check.
* :mod:`.lsq` -- :func:`ict_lm` and :func:`ict_nls`, the linear and nonlinear least squares
  regressions of Imai (2011), with sandwich standard errors.
* :mod:`.prevalence` -- :func:`predict_prevalence`, the average predicted prevalence.
* :mod:`.design_effect` -- :func:`design_effect_test` of Blair & Imai (2012).
* :mod:`.combined` -- :func:`combined_list_direct`, the combined list / direct-question
  estimator of Aronow, Coppock, Crawford & Green (2015), and its placebo test.
* :mod:`.power` -- :func:`power_list_experiment` and :func:`sample_size_list_experiment`.
* :mod:`._validate` -- input checks and covariate matrices shared by all of the above.

References
----------
Imai, K. (2011). Multivariate regression analysis for the item count technique. *Journal of the
American Statistical Association* 106(494): 407-416. doi:10.1198/jasa.2011.ap10415

Blair, G. & Imai, K. (2012). Statistical analysis of list experiments. *Political Analysis*
20(1): 47-77. doi:10.1093/pan/mpr048

Aronow, P. M., Coppock, A., Crawford, F. W. & Green, D. P. (2015). Combining list experiment and
direct question estimates of sensitive behavior prevalence. *Journal of Survey Statistics and
Methodology* 3(1): 43-66. doi:10.1093/jssam/smu023

Vermunt, J. K. (2010). Latent class modeling with covariates: two improved three-step
approaches. *Political Analysis* 18(4): 450-469.

Bakk, Z., Tekle, F. B. & Vermunt, J. K. (2013). Estimating the association between latent class
membership and external variables using bias-adjusted three-step approaches. *Sociological
Methodology* 43(1): 272-311.

Jones, P. & Smyth, R. (2022). The future of Kazakhstani-Russian relations: public opinion and the
CSTO. *PONARS Eurasia Policy Memo* 806.

Andrews, D. W. K. & Soares, G. (2010). Inference for parameters defined by moment inequalities
using generalized moment selection. *Econometrica* 78(1): 119-157.

Kudo, A. (1963). A multivariate analogue of the one-sided test. *Biometrika* 50: 403-418.

Louis, T. A. (1982). Finding the observed information matrix when using the EM algorithm.
*JRSS B* 44(2): 226-233.
"""

from __future__ import annotations

from .bounded import BoundedResult, bounded_prevalence
from .combined import CombinedResult, combined_list_direct
from .design_effect import DesignEffectResult, design_effect_test
from .dim import DiMResult, difference_in_means
from .liars import ICTLiarResult, ict_ml_liars
from .lsq import ICTLSResult, ict_lm, ict_nls
from .ml import ICTMLResult, ict_ml
from .multi import ICTMultiMLResult, ict_ml_multi
from .power import ListPower, power_list_experiment, sample_size_list_experiment
from .prevalence import PrevalenceResult, predict_prevalence
from .subgroups import subgroup_table
from .three_step import ThreeStepResult, three_step_prevalence

__all__ = [
    "BoundedResult",
    "CombinedResult",
    "DesignEffectResult",
    "DiMResult",
    "ICTLSResult",
    "ICTLiarResult",
    "ICTMLResult",
    "ICTMultiMLResult",
    "ListPower",
    "PrevalenceResult",
    "ThreeStepResult",
    "bounded_prevalence",
    "combined_list_direct",
    "design_effect_test",
    "difference_in_means",
    "ict_lm",
    "ict_ml",
    "ict_ml_liars",
    "ict_ml_multi",
    "ict_nls",
    "power_list_experiment",
    "predict_prevalence",
    "sample_size_list_experiment",
    "subgroup_table",
    "three_step_prevalence",
]
