"""Write docs/configuration.md from the settings model (run after adding a setting; a test checks the doc)."""

from __future__ import annotations

from pathlib import Path

from omnistock.config import Settings

HEAD = """# Configuration

omnistock reads its settings from the environment (or a `.env` file in the working directory), each prefixed
`OMNISTOCK_`. One settings object (`omnistock.config.Settings`) is the only place they are read.

| variable | default | meaning |
|---|---|---|
"""


def main() -> None:
    rows = []
    for name, field in Settings.model_fields.items():
        default = "" if field.default is None else str(field.default)
        rows.append(f"| `OMNISTOCK_{name.upper()}` | `{default}` | {field.description} |")
    out = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
    out.write_text(HEAD + "\n".join(rows) + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(rows)} settings)")


if __name__ == "__main__":
    main()
