@extends('layouts.app')

@section('content')
  <h1>Hello, {{ $name }}</h1>
@endsection
