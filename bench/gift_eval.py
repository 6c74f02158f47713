"""The GIFT-Eval suite as data: storage names, terms, pretty config names, and its tasks.

Dataset lists: SalesforceAIResearch/gift-eval ``notebooks/naive.ipynb`` (commented ``short_datasets`` and
``med_long_datasets``). Pretty names and the frequency of names without ``/``: the ``pretty_names`` map and
``notebooks/dataset_properties.json`` used by the upstream notebooks to write ``all_results.csv``.

The 97 config names built here were checked against the ``dataset`` column of
SalesforceAIResearch/gift-eval ``results/Toto_2.0_22m/all_results.csv`` (commit 84493be): the same 97 names,
as a set. ``tests/test_gift_eval_layout.py`` keeps that list and asserts the equality.
"""

from __future__ import annotations

from toto_bench.protocol import TERMS, Task, build_task, did_you_mean, freq_label

#: The 55 storage names evaluated on the short term, in notebook order.
SHORT_DATASETS: tuple[str, ...] = tuple(
    """
    m4_yearly m4_quarterly m4_monthly m4_weekly m4_daily m4_hourly
    electricity/15T electricity/H electricity/D electricity/W
    solar/10T solar/H solar/D solar/W
    hospital covid_deaths
    us_births/D us_births/M us_births/W
    saugeenday/D saugeenday/M saugeenday/W
    temperature_rain_with_missing kdd_cup_2018_with_missing/H kdd_cup_2018_with_missing/D
    car_parts_with_missing restaurant hierarchical_sales/D hierarchical_sales/W
    LOOP_SEATTLE/5T LOOP_SEATTLE/H LOOP_SEATTLE/D SZ_TAXI/15T SZ_TAXI/H M_DENSE/H M_DENSE/D
    ett1/15T ett1/H ett1/D ett1/W ett2/15T ett2/H ett2/D ett2/W
    jena_weather/10T jena_weather/H jena_weather/D
    bitbrains_fast_storage/5T bitbrains_fast_storage/H bitbrains_rnd/5T bitbrains_rnd/H
    bizitobs_application bizitobs_service bizitobs_l2c/5T bizitobs_l2c/H
    """.split()
)

#: The 21 storage names also evaluated on the medium and long terms, in notebook order.
MED_LONG_DATASETS: tuple[str, ...] = tuple(
    """
    electricity/15T electricity/H solar/10T solar/H kdd_cup_2018_with_missing/H
    LOOP_SEATTLE/5T LOOP_SEATTLE/H SZ_TAXI/15T M_DENSE/H
    ett1/15T ett1/H ett2/15T ett2/H jena_weather/10T jena_weather/H
    bitbrains_fast_storage/5T bitbrains_rnd/5T
    bizitobs_application bizitobs_service bizitobs_l2c/5T bizitobs_l2c/H
    """.split()
)

#: Every storage folder of the suite (the short list covers the medium/long one).
STORAGE_NAMES: tuple[str, ...] = SHORT_DATASETS

#: Upstream ``pretty_names``, applied after lower-casing.
PRETTY_NAMES: dict[str, str] = {
    "saugeenday": "saugeen",
    "temperature_rain_with_missing": "temperature_rain",
    "kdd_cup_2018_with_missing": "kdd_cup_2018",
    "car_parts_with_missing": "car_parts",
}

#: Config frequency of the storage names without ``/`` (``dataset_properties.json`` "frequency"; for these
#: datasets it is the data frequency in legacy spelling, checked against the data by :func:`config_freq`).
UNSPLIT_FREQ: dict[str, str] = {
    "m4_yearly": "A",
    "m4_quarterly": "Q",
    "m4_monthly": "M",
    "m4_weekly": "W",
    "m4_daily": "D",
    "m4_hourly": "H",
    "hospital": "M",
    "covid_deaths": "D",
    "temperature_rain": "D",
    "car_parts": "M",
    "restaurant": "D",
    "bizitobs_application": "10S",
    "bizitobs_service": "10S",
}


#: The ``domain`` column of GIFT-Eval's ``all_results.csv``, by pretty dataset name (as published in
#: SalesforceAIResearch/gift-eval ``results/*/all_results.csv``).
DOMAINS: dict[str, str] = {
    **dict.fromkeys(("ett1", "ett2", "electricity", "solar"), "Energy"),
    **dict.fromkeys(
        (
            "bitbrains_rnd",
            "bitbrains_fast_storage",
            "bizitobs_application",
            "bizitobs_service",
            "bizitobs_l2c",
        ),
        "Web/CloudOps",
    ),
    **dict.fromkeys(("covid_deaths", "us_births", "hospital"), "Healthcare"),
    **dict.fromkeys(
        ("m4_yearly", "m4_quarterly", "m4_monthly", "m4_weekly", "m4_daily", "m4_hourly"), "Econ/Fin"
    ),
    **dict.fromkeys(("restaurant", "car_parts", "hierarchical_sales"), "Sales"),
    **dict.fromkeys(("sz_taxi", "m_dense", "loop_seattle"), "Transport"),
    **dict.fromkeys(("saugeen", "jena_weather", "kdd_cup_2018", "temperature_rain"), "Nature"),
}


def domain_of(storage_name: str) -> str:
    """The published ``domain`` of a storage name (``"ett1/H"`` → ``"Energy"``)."""
    return DOMAINS[pretty_name(storage_name)]


def terms_of(storage_name: str) -> tuple[str, ...]:
    """The terms a storage name is evaluated on: short, plus medium and long for the med/long list."""
    _check_name(storage_name)
    return TERMS if storage_name in MED_LONG_DATASETS else ("short",)


def pretty_name(storage_name: str) -> str:
    """The dataset part of the config name: ``"saugeenday/M"`` → ``"saugeen"``, ``"LOOP_SEATTLE/5T"`` →
    ``"loop_seattle"``, ``"car_parts_with_missing"`` → ``"car_parts"``."""
    key = storage_name.split("/")[0].lower()
    return PRETTY_NAMES.get(key, key)


def config_freq(storage_name: str, data_freq: str | None = None) -> str:
    """The frequency part of the config name.

    ``/``-names carry it (``"ett1/15T"`` → ``"15T"``); the others use the published frequency, which is the
    data frequency in legacy spelling with the anchor dropped (``"10s"`` → ``"10S"``, ``"A-DEC"`` → ``"A"``).

    Raises:
        ValueError: when ``data_freq`` is given and disagrees with that frequency (wrong dataset folder).
    """
    if "/" in storage_name:
        published = storage_name.split("/", 1)[1]
    else:
        published = UNSPLIT_FREQ[pretty_name(storage_name)]
    if data_freq is not None and freq_label(data_freq) != published:
        raise ValueError(
            f"GIFT-Eval dataset {storage_name!r} has data frequency {data_freq!r} ({freq_label(data_freq)}), "
            f"but its published configs use {published!r}: is the folder the right dataset?"
        )
    return published


def config_name(storage_name: str, term: str, data_freq: str | None = None) -> str:
    """The published config name ``<pretty>/<freq>/<term>``, e.g. ``"kdd_cup_2018/H/medium"``."""
    if term not in terms_of(storage_name):
        valid = ", ".join(terms_of(storage_name))
        raise ValueError(f"GIFT-Eval dataset {storage_name!r} has no {term!r} term; its terms: {valid}")
    return f"{pretty_name(storage_name)}/{config_freq(storage_name, data_freq)}/{term}"


def configs() -> list[tuple[str, str, str]]:
    """All 97 ``(config name, storage name, term)`` triples, short list order then terms."""
    return [(config_name(name, term), name, term) for name in STORAGE_NAMES for term in terms_of(name)]


def task(storage_name: str, term: str, *, freq: str, min_length: int, target_dim: int) -> Task:
    """The :class:`~toto_bench.protocol.Task` of one config from its dataset summary (row-0 freq and
    target_dim, shortest first-variate length)."""
    return build_task(
        config=config_name(storage_name, term, freq),
        storage_name=storage_name,
        term=term,
        freq=freq,
        min_length=min_length,
        target_dim=target_dim,
    )


def _check_name(storage_name: str) -> None:
    if storage_name not in STORAGE_NAMES:
        raise ValueError(
            f"unknown GIFT-Eval dataset {storage_name!r}{did_you_mean(storage_name, STORAGE_NAMES)}; "
            f"its {len(STORAGE_NAMES)} storage names are in toto_bench.gift_eval.SHORT_DATASETS"
        )
