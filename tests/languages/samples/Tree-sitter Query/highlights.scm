(function_item name: (identifier) @function)
((identifier) @constant
 (#match? @constant "^[A-Z]"))
