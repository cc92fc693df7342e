% compute the mean of a vector
function m = opsmith_mean(v)
    m = sum(v) / numel(v);
end
