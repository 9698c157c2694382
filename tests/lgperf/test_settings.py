from pathlib import Path

import pytest

from lgperf.settings import ConfigError, Environment, load_pipeline_config

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
    assert config.thresholds.spc.screen_moving_ranges is False


def test_project_pipeline_yml_is_valid():
    config = load_pipeline_config(Path(__file__).parents[2] / "pipeline.yml")
    assert config.council == "E08000009"  # Trafford: real data on the first run


@pytest.mark.parametrize(
    "change, named",
    [
        (VALID + "colour: blue\n", "colour: unknown key"),
        (VALID.replace('periods: "latest:8"', 'periods: "latest:8"\n  batchsize: 3'), "lginform.batchsize: unknown key"),
        (VALID.replace('periods: "latest:8"', 'periods: "latest:8"\n  batch_size: many'), "lginform.batch_size"),
        (VALID.replace("council: E08000009", "council: Trafford"), "council"),
        (VALID.replace('"latest:8"', '"recent"'), "lginform.periods"),
        (VALID.replace('["3281", "90001"]', '["3281", "abc"]'), "lginform.metric_types.1"),
        (VALID.replace("areas: [E08000009,", "areas: [not a code!,"), "lginform.areas"),
        (VALID + "thresholds:\n  spc:\n    rebase_periods: {abc: [fin_2020_21]}\n", "thresholds.spc.rebase_periods.abc"),
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


def test_environment_defaults_are_absolute_and_demo_when_no_api():
    env = Environment.from_environ({})
    assert env.warehouse_path.is_absolute() and env.warehouse_path.name == "warehouse.duckdb"
    assert env.export_dir.name == "exports" and env.inbox_dir.name == "inbox"
    assert env.uses_demo
    assert not Environment.from_environ({"LGINFORM_BASE_URL": "https://webservices.esd.org.uk"}).uses_demo


def test_relative_paths_resolve_against_the_project(tmp_path):
    env = Environment.from_environ({"WAREHOUSE_PATH": str(tmp_path / "w.duckdb"), "EXPORT_DIR": "out"})
    assert env.warehouse_path == tmp_path / "w.duckdb"
    assert env.export_dir == Path(__file__).parents[2] / "out"


def test_the_warehouse_is_duckdb_unless_postgres_is_asked_for_and_nothing_else_is_accepted():
    assert Environment.from_environ({}).warehouse == "duckdb"
    assert Environment.from_environ({"WAREHOUSE": "postgres"}).warehouse == "postgres"
    with pytest.raises(ConfigError, match=r"WAREHOUSE='oracle': expected one of duckdb, postgres"):
        Environment.from_environ({"WAREHOUSE": "oracle"})
