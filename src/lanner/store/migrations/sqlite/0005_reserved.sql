-- Reserved: another branch brings this version's migration. This placeholder
-- (a no-op) keeps the numbers 1..n while 0006 exists without it; the
-- integrator deletes it when the real file arrives.
SELECT 1;
