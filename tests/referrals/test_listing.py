"""Pages read without counting the list (`referrals.listing`): one row past the page says
whether there is a next one."""

import pytest

from referrals.listing import MAX_PAGE, page_number, page_without_count


@pytest.mark.parametrize(
    ("value", "number"),
    [(None, 1), ("", 1), ("0", 1), ("-3", 1), ("x", 1), ("٣", 1), ("3", 3), ("99999", MAX_PAGE)],
)
def test_a_page_number_is_a_whole_number_from_1_to_the_deepest_page(value, number):
    assert page_number(value) == number


def test_a_list_that_fills_its_last_page_exactly_has_no_next_page():
    rows = list(range(4))
    first = page_without_count(rows, "1", 2)
    last = page_without_count(rows, "2", 2)
    assert (first.rows, first.has_previous, first.has_next) == ([0, 1], False, True)
    assert (last.rows, last.has_previous, last.has_next) == ([2, 3], True, False)
    assert (last.start_index, last.end_index) == (3, 4)
    assert not last.past_the_end


def test_a_page_past_the_end_is_empty_and_says_so():
    page = page_without_count(list(range(4)), "5", 2)
    assert page.rows == [] and page.past_the_end and not page.has_next
    assert (page.start_index, page.end_index, page.previous_page_number) == (0, 0, 4)


def test_rows_are_built_for_the_page_only():
    built = []
    page = page_without_count(list(range(10)), "2", 3, total=10).map(
        lambda n: built.append(n) or -n
    )
    assert page.rows == [-3, -4, -5] and built == [3, 4, 5]
    assert (page.number, page.has_next, page.total) == (2, True, 10)
