// The OAuth tester on /docs.
