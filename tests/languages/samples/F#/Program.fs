module Opsmith.Program

open System

[<EntryPoint>]
let main argv =
    printfn "hello"
    0
