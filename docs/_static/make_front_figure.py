"""Draw the front-page figure (docs/_static/front.png) from the synthetic demo panel.

Run ``PYTHONPATH=. .venv/bin/python docs/_static/make_front_figure.py`` after changing the
plotting code; the PNG is committed so that the README can show it without a build.
"""

from pathlib import Path

import matplotlib.pyplot as plt

from assesskit.datasets.demo import make_demo_data
from assesskit.plotting.srb import plot_srb_intervals
from assesskit.stats.proportions import compare_with_national, sex_ratio

demo = make_demo_data(seed=0, schemes=["wujin_2016"])["wujin_2016"]
srb = compare_with_national(sex_ratio(demo.data))
fig, ax = plt.subplots(figsize=(7.5, 5.2), dpi=110)
plot_srb_intervals(srb, year=2016, names=dict(zip(demo.units.unit, demo.units.name)), ax=ax)
fig.tight_layout()
fig.savefig(Path(__file__).with_name("front.png"))
