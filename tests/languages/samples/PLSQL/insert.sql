CREATE SEQUENCE service_seq;
INSERT INTO services (id, name) VALUES (service_seq.nextval, 'api');
