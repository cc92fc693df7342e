CREATE TABLE services (name STRING, port INT);
SELECT name FROM services;
