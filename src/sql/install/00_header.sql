-- crm_grade install script, assembled by the Makefile from src/sql/install
-- (header, tables, presets) around the definitions in src/sql/common.
\echo Use "CREATE EXTENSION crm_grade" to load this file. \quit
