-- why: user.list.search (PROTOCOL.md section 8) for a term of 1 or 2 characters: such a term has
-- no trigrams, so one that (almost) nobody holds walked all of user_directory in id order, a heap
-- fetch a row (100,000 rows: 17 ms, 47 at p99 under load). This index holds every character and
-- every pair of neighbouring characters of `search`, so who holds such a term is found at once
-- (src/store/postgres/directory.ts asks it first; a term many hold still walks the ids).
-- The pairs: `search` cut in pairs from its first character and from its second, a chr(1) after
-- each, split there; a pair holding chr(1) itself is lost, so a term with chr(1) is never looked
-- up here. plpgsql, never inlined, with its cost (about 7 us a row: COST 1000), so the planner
-- reads this index rather than computing the pairs row after row, but for a term nearly every row
-- holds; PARALLEL RESTRICTED: no workers started for a query of a millisecond or two.
-- E'\\1' is a backslash and 1 whatever standard_conforming_strings says.
CREATE FUNCTION user_search_grams(search TEXT) RETURNS TEXT[]
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL RESTRICTED COST 1000 AS $$
BEGIN
  RETURN array_remove(string_to_array(search, NULL)
    || string_to_array(regexp_replace(search, '(..)', E'\\1' || chr(1), 'g'), chr(1))
    || string_to_array(regexp_replace(substr(search, 2), '(..)', E'\\1' || chr(1), 'g'), chr(1)), '');
END;
$$;
CREATE INDEX user_directory_grams ON user_directory USING gin (user_search_grams(search));
