"""``thriftwatch`` subcommands: each module gives ``add_parser(subparsers)``, whose parser
sets ``run`` to the function that carries the command out and returns its exit code."""
