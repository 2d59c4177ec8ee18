"""The Literal aliases of name arguments agree with the tables the code looks names up in.

A name the Literal lists but the table lacks would pass the type checker and fail at run
time; a name the table has but the Literal lacks would be refused by the type checker
though it works. Order is compared too: the Literal is the table's documentation.
"""

from typing import get_args

from landscape.activations import ACTIVATIONS, ActivationName


def test_activation_names_are_the_table():
    assert get_args(ActivationName) == tuple(ACTIVATIONS)
