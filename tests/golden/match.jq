# match.jq - compare a report with an expected fragment (jq module).
#
# diffs($expected; $path) emits one line per difference between the input
# and $expected: every member of an expected object must be present and
# match (the input may have more members); arrays must have the same length
# and match element by element; anything else must be equal. No output
# means the input matches.
def diffs($e; $p):
  . as $a
  | if ($e | type) == "object" then
      if ($a | type) != "object" then "\($p): expected an object, found \($a | tojson)"
      else $e | keys_unsorted[] as $k
        | if ($a | has($k)) then ($a[$k] | diffs($e[$k]; "\($p).\($k)"))
          else "\($p).\($k): missing" end
      end
    elif ($e | type) == "array" then
      if ($a | type) != "array" or ($a | length) != ($e | length) then
        "\($p): expected \($e | tojson), found \($a | tojson)"
      else range($e | length) as $i | ($a[$i] | diffs($e[$i]; "\($p)[\($i)]"))
      end
    elif $a == $e then empty
    else "\($p): expected \($e | tojson), found \($a | tojson)"
    end;
