"""``python -m imggan`` (and ``torchrun -m imggan train ...``): the same CLI as the ``imggan`` script."""


def _main() -> None:
    from imggan.cli import main  # imported lazily: the module may be absent in a partial checkout

    main()


if __name__ == "__main__":
    _main()
