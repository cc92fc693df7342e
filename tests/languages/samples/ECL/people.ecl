Person := RECORD
  STRING20 name;
END;
people := DATASET('~opsmith::people', Person, THOR);
OUTPUT(people);
