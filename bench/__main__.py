"""Run every benchmark and print one table."""

from bench import constants


def main() -> None:
    constants.main()


if __name__ == "__main__":
    main()
