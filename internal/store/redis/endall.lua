-- EndSessions: end every live session of a subject.
-- KEYS[1]  the subject's index
-- ARGV[1]  the subject
-- ARGV[2]  now (unix ms)
-- ARGV[3]  BASE, the family key prefix of the index's tag
-- Returns the ids of the sessions ended.
return end_subject(KEYS[1], ARGV[3], ARGV[1], tonumber(ARGV[2]), {})
