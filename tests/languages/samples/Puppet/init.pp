class opsmith {
  package { 'opsmith':
    ensure => installed,
  }
}
