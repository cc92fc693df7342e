{application, opsmith,
 [{description, "Opsmith demo"},
  {vsn, "0.1.0"},
  {registered, []},
  {applications, [kernel, stdlib]},
  {mod, {opsmith_app, []}}
 ]}.
