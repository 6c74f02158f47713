"""The Toto 2.0 paper's other experiments as commands: latency vs horizon, long-horizon stability.

========================  =======================================================================
module                    what it holds
========================  =======================================================================
:mod:`.synthetic`         the seeded multi-scale sinusoid mixtures and Pearson r
:mod:`.models`            building a study's models (published or ``--random-init``), decode modes,
                          forward-pass counting with torch forward hooks
:mod:`.latency`           ``toto-bench study latency``
:mod:`.long_horizon`      ``toto-bench study long-horizon``
:mod:`.plots`             hand-written SVG: latency-vs-horizon lines, forecast panels
========================  =======================================================================

See docs/studies.md.
"""
