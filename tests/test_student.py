import pytest

from structlab.exercises.student import strip_solutions

SOURCE = '''# %% tags=["setup"]
import math

# %% tags=["exercise"]
def area(r):
    """Circle area."""
    ### BEGIN SOLUTION
    return math.pi * r**2
    ### END SOLUTION

# %%
print("narrative")
'''


def test_strip_keeps_everything_but_the_solution():
    student = strip_solutions(SOURCE)
    assert "math.pi" not in student and "BEGIN SOLUTION" not in student
    assert '    raise NotImplementedError("exercise not solved yet")\n' in student
    assert '"""Circle area."""' in student and 'print("narrative")' in student


@pytest.mark.parametrize("bad, message", [
    ("def f():\n    ### BEGIN SOLUTION\n    x = 1\n", "line 2: ### BEGIN SOLUTION is never closed"),
    ("x = 1\n### END SOLUTION\n", "line 2: ### END SOLUTION without"),
    ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n", "line 3: ### BEGIN SOLUTION inside"),
    ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", "line 1: .* must sit inside a function body"),
])
def test_unbalanced_markers(bad, message):
    with pytest.raises(ValueError, match=message):
        strip_solutions(bad)


def test_a_model_answer_in_a_markdown_cell_becomes_an_invitation():
    source = ('# %% [markdown] tags=["answer"]\n# **Your answer:**\n#\n'
              '# ### BEGIN SOLUTION\n# Because L2 shrinks the tail.\n# ### END SOLUTION\n')
    student = strip_solutions(source)
    assert student == ('# %% [markdown] tags=["answer"]\n# **Your answer:**\n#\n'
                       '# *Write your answer here.*\n')
    with pytest.raises(ValueError, match="line 4: ### BEGIN SOLUTION is never closed"):
        strip_solutions(source.replace("# ### END SOLUTION\n", ""))
