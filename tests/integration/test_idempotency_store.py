"""The API's stored responses: the first response for (principal, key) wins, on both backends."""

from __future__ import annotations

from models.api_store import StoredResponse, find_response, store_response


def test_the_first_stored_response_wins_and_a_later_one_gets_it_back(engine):
    first = StoredResponse("POST /funds/f/events", "a" * 64, 201, "application/json", b'{"entry_id": 1}')
    second = StoredResponse("POST /funds/f/events", "b" * 64, 201, "application/json", b'{"entry_id": 2}')
    with engine.begin() as conn:
        assert store_response(conn, "fund_manager:f", "k-1", first) == first
    with engine.begin() as conn:
        assert store_response(conn, "fund_manager:f", "k-1", second) == first  # lost the race: gets the winner
        assert store_response(conn, "fund_manager:g", "k-1", second) == second  # keys are per principal
    with engine.connect() as conn:
        assert find_response(conn, "fund_manager:f", "k-1") == first
        assert find_response(conn, "fund_manager:f", "k-2") is None
