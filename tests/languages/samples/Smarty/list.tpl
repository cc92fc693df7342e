<h1>{$title}</h1>
{foreach $services as $s}
  <li>{$s.name}</li>
{/foreach}
