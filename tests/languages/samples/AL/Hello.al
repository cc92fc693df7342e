codeunit 50100 "Opsmith Hello"
{
    trigger OnRun()
    begin
        Message('Hello');
    end;
}
