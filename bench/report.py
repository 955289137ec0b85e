"""The bench's output: tables of figures and one table of targets, as text and markdown.

Each part returns ``Table``s (figures) and ``Target``s (a goal from issue 7, what was
measured, met or not); ``render`` lays them out for the terminal and ``markdown`` for
``out/bench/results.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Table:
    title: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append(tuple(str(c) for c in cells))


@dataclass(frozen=True)
class Target:
    what: str
    goal: str
    measured: str
    met: bool


@dataclass
class Results:
    tables: list[Table] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    def extend(self, other: Results) -> None:
        self.tables += other.tables
        self.targets += other.targets


def targets_table(targets: list[Target]) -> Table:
    table = Table("Targets", ("target", "goal", "measured", "met?"))
    for t in targets:
        table.add(t.what, t.goal, t.measured, "yes" if t.met else "NO")
    return table


def _text_table(table: Table) -> str:
    widths = [
        max(len(row[i]) for row in (table.header, *table.rows)) for i in range(len(table.header))
    ]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()

    body = [
        table.title,
        line(table.header),
        "  ".join("-" * w for w in widths),
        *map(line, table.rows),
    ]
    return "\n".join(body + [f"  {n}" for n in table.notes])


def _markdown_row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _markdown_table(table: Table) -> str:
    body = [
        f"### {table.title}",
        "",
        _markdown_row(table.header),
        _markdown_row(tuple("---" for _ in table.header)),
    ]
    body += [_markdown_row(r) for r in table.rows]
    return "\n".join(body + [""] + [f"- {n}" for n in table.notes])


def render(results: Results) -> str:
    tables = [*results.tables, targets_table(results.targets)]
    return "\n\n".join(_text_table(t) for t in tables) + "\n"


def markdown(results: Results, machine: str, command: str) -> str:
    tables = [targets_table(results.targets), *results.tables]
    head = f"Machine: {machine}. Command: `{command}`.\n"
    return head + "\n" + "\n\n".join(_markdown_table(t) for t in tables) + "\n"
