class
    APPLICATION
create
    make
feature
    make
        do
            print ("Hello%N")
        end
end
