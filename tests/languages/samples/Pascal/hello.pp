program Hello;
begin
  WriteLn('Hello');
end.
