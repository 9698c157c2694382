"""``make dev``'s first step: refuse to start the Dagster UI and daemon without a data source
(LGINFORM_BASE_URL, or the demo asked for with LGPERF_DEMO=1) or with invalid settings, so a
daemon never starts its schedules on the demo by accident. Exit 2 and say why; nothing written."""

from __future__ import annotations

import sys

from lgperf.settings import ConfigError, Environment, load_pipeline_config


def main() -> int:
    try:
        env = Environment.from_environ()
        env.require_source()
        load_pipeline_config(env.config_path)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    print(f"{'demo (synthetic data)' if env.demo else env.lginform_base_url}; settings {env.config_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
