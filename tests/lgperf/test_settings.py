from pathlib import Path

import pytest

from lgperf.settings import ConfigError, Environment, NoDataSource, load_pipeline_config

VALID = """
council: E08000009
lginform:
  metric_types: ["3281", "90001"]
  areas: [E08000009, Trafford_CIPFA_Near_Neighbours]
  periods: "latest:8"
comparison_groups: [Trafford_CIPFA_Near_Neighbours]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pipeline.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_config_loads_with_defaults(tmp_path):
    config = load_pipeline_config(write(tmp_path, VALID))
    assert config.council == "E08000009"
    assert config.lginform.metric_types == ["3281", "90001"]
    assert config.lginform.batch_size == 10
    assert config.thresholds.spc.run_length == 7
    assert config.thresholds.spc.screen_moving_ranges is True  # NHSRplotthedots' default
    assert config.thresholds.spc.freeze_after_points is None
    # resident surveys: a 5% false discovery rate, a benchmark stale after two years
    assert config.thresholds.survey.fdr_level == 0.05
    assert config.thresholds.survey.benchmark_max_age_months == 24
    # direction of travel: 0.5 percentage points for a percentage, 1% of the earlier value otherwise
    assert config.thresholds.no_change_points == 0.5
    assert config.thresholds.no_change_percent == 1.0


def test_the_council_template_and_the_demo_settings_are_both_valid():
    template = load_pipeline_config(Path(__file__).parents[2] / "pipeline.yml")
    demo = load_pipeline_config(Path(__file__).parents[2] / "pipeline.demo.yml")
    # the template is for live data: freshness judged on the run's date, no demo extract, no synthetic ids
    assert template.thresholds.freshness.as_of is None and template.extracts == []
    assert not any(m.startswith("91") for m in template.lginform.metric_types)
    assert template.bi.unsuppressed_counts is False
    assert demo.thresholds.freshness.as_of is not None and "91001" in demo.lginform.metric_types
    assert all(e.path.startswith("demo/") for e in demo.extracts)


@pytest.mark.parametrize(
    "change, named",
    [
        (VALID + "colour: blue\n", "colour: unknown key"),
        (
            VALID.replace('periods: "latest:8"', 'periods: "latest:8"\n  batchsize: 3'),
            "lginform.batchsize: unknown key",
        ),
        (VALID.replace('periods: "latest:8"', 'periods: "latest:8"\n  batch_size: many'), "lginform.batch_size"),
        (VALID.replace("council: E08000009", "council: Trafford"), "council"),
        (VALID.replace('"latest:8"', '"recent"'), "lginform.periods"),
        (VALID.replace('["3281", "90001"]', '["3281", "abc"]'), "lginform.metric_types.1"),
        (VALID.replace("areas: [E08000009,", "areas: [not a code!,"), "lginform.areas"),
        (
            VALID + "thresholds:\n  spc:\n    rebase_periods: {abc: [fin_2020_21]}\n",
            "thresholds.spc.rebase_periods.abc",
        ),
        (VALID + "thresholds:\n  survey:\n    fdr_level: 0\n", "thresholds.survey.fdr_level"),
        (VALID + "thresholds:\n  no_change_points: -0.5\n", "thresholds.no_change_points"),
        (VALID + "thresholds:\n  no_change_points: half\n", "thresholds.no_change_points"),
        (VALID + "thresholds:\n  survey:\n    fdr_level: 0.5\n", "thresholds.survey.fdr_level"),
        (
            VALID + "thresholds:\n  survey:\n    benchmark_max_age_months: 0\n",
            "thresholds.survey.benchmark_max_age_months",
        ),
        (
            VALID + "thresholds:\n  survey:\n    benchmark_max_age_months: two years\n",
            "thresholds.survey.benchmark_max_age_months",
        ),
    ],
)
def test_bad_config_names_the_key(tmp_path, change, named):
    path = write(tmp_path, change)
    with pytest.raises(ConfigError) as error:
        load_pipeline_config(path)
    assert str(path) in str(error.value)
    assert named in str(error.value)


def test_missing_and_unparsable_files_are_named(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_pipeline_config(tmp_path / "absent.yml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_pipeline_config(write(tmp_path, "council: [unclosed"))


def test_environment_defaults_are_absolute_and_the_demo_only_when_asked_for():
    env = Environment.from_environ({})
    assert env.warehouse_path.is_absolute() and env.warehouse_path.name == "warehouse.duckdb"
    assert env.export_dir.name == "exports" and env.inbox_dir.name == "inbox"
    assert not env.uses_demo and env.config_path.name == "pipeline.yml"
    with pytest.raises(NoDataSource, match=r"LGINFORM_BASE_URL is not set.*--demo.*LGPERF_DEMO=1"):
        env.require_source()
    demo = Environment.from_environ({"LGPERF_DEMO": "1"})
    assert demo.uses_demo and demo.config_path.name == "pipeline.demo.yml"
    demo.require_source()
    real = Environment.from_environ({"LGINFORM_BASE_URL": "https://webservices.esd.org.uk"})
    assert not real.uses_demo and real.config_path.name == "pipeline.yml"
    real.require_source()
    with pytest.raises(NoDataSource, match="both LGPERF_DEMO .* and LGINFORM_BASE_URL"):
        Environment.from_environ(
            {"LGPERF_DEMO": "yes", "LGINFORM_BASE_URL": "https://webservices.esd.org.uk"}
        ).require_source()
    with pytest.raises(ConfigError, match="LGPERF_DEMO='maybe'"):
        Environment.from_environ({"LGPERF_DEMO": "maybe"})


def test_relative_paths_resolve_against_the_project(tmp_path):
    env = Environment.from_environ({"WAREHOUSE_PATH": str(tmp_path / "w.duckdb"), "EXPORT_DIR": "out"})
    assert env.warehouse_path == tmp_path / "w.duckdb"
    assert env.export_dir == Path(__file__).parents[2] / "out"


def test_the_warehouse_is_duckdb_unless_postgres_is_asked_for_and_nothing_else_is_accepted():
    assert Environment.from_environ({}).warehouse == "duckdb"
    assert Environment.from_environ({"WAREHOUSE": "postgres"}).warehouse == "postgres"
    with pytest.raises(ConfigError, match=r"WAREHOUSE='oracle': expected one of duckdb, postgres"):
        Environment.from_environ({"WAREHOUSE": "oracle"})
