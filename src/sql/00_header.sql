-- crm_grade install script, assembled from src/sql/*.sql by the Makefile.
\echo Use "CREATE EXTENSION crm_grade" to load this file. \quit
