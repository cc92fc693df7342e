CREATE TABLE services (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL
);
SELECT name FROM services;
